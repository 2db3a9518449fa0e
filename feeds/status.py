"""`python -m feeds status`: what the person running feeds wants to know, from the state alone."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from feeds.config import Config
from feeds.digest.period import Period, Schedule
from feeds.digest.select import last_mailed
from feeds.store import Store, from_iso


def gather(config: Config, now: datetime) -> dict[str, Any]:
    """Everything `status` shows, as plain data. Reads the state; never creates or changes it."""
    info: dict[str, Any] = {"state": str(config.state.path), "time_zone": config.site.timezone}
    if not config.state.path.exists():
        info["missing"] = True
        return info
    with Store(config.state.path) as store:
        last = store.meta("last_pass")
        info["last_pass"] = json.loads(last) if last else None
        schedule = Schedule.of(config)
        due = schedule.due_period(now)
        latest = last_mailed(store)
        mailed = latest[1] if latest else None
        overdue = latest is None or latest[0] < due
        following = due if overdue else due.shift(1)
        info["next_digest"] = {"period": following.label, "week": following.describe(),
                               "due": schedule.due(following).isoformat(), "overdue": overdue}
        info["last_digest"] = None
        if mailed is not None:
            counts: dict[str, int] = {}
            for row in store.deliveries(mailed["period"]):
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            info["last_digest"] = {"period": mailed["period"], "posts": mailed["posts"],
                                   "composed": mailed["composed"], "deliveries": counts}
        info["subscribers"] = store.subscriber_counts()
        dumps = store.dump_counts()
        mailed_count, archived_count = store.digest_counts()
        info["counts"] = {
            "dumps": dumps.get("ok", 0),
            "dumps_skipped": dumps.get("skipped", 0),
            "dumps_quarantined": dumps.get("failed", 0),
            "entries": store.count(),
            "digests_mailed": mailed_count,
            "digests_archived": archived_count,
        }
        # Dumps a bug in feeds kept out, read again only when their bytes or feeds' readers change
        # (one removed since is shown as gone: the state keeps what it knew of it).
        info["quarantined"] = [
            {"path": q.path, "reason": q.error, "since": q.last_read, "sha256": q.sha256 or None,
             "gone": not os.path.lexists(q.path)}
            for q in store.quarantined()]
        info["undelivered"] = [
            {"period": r["period"], "recipient": r["recipient"], "status": r["status"], "reply": r["reply"],
             "attempts": r["attempts"]}
            for status in ("failed", "unknown", "pending", "sending") for r in store.deliveries(status=status)]
    return info


def render(info: dict[str, Any]) -> str:
    """`gather`'s data for a person."""
    if info.get("missing"):
        return f"no state yet at {info['state']}: run `python -m feeds` first"
    lines = [f"state:        {info['state']}"]
    last = info["last_pass"]
    if last:
        lines.append(f"last pass:    {_local(last['time'], info)}: {last['summary']}")
        lines += [f"              skipped {s}" for s in last["skipped"]]
        lines += [f"              quarantined {s}" for s in last.get("failed", ())]
        lines += [f"              {p}" for p in last["problems"]]
    else:
        lines.append("last pass:    none recorded")
    nd = info["next_digest"]
    when = _local(nd["due"], info)
    lines.append(f"next digest:  {nd['period']} ({Period.parse(nd['period']).phrase}), "
                 + (f"due since {when}: the next pass sends it" if nd["overdue"] else f"due {when}"))
    ld = info["last_digest"]
    if ld:
        sent = ", ".join(f"{n} {s}" for s, n in sorted(ld["deliveries"].items())) or "no email (no posts or "\
                                                                                     "no recipients)"
        lines.append(f"last digest:  {ld['period']}: {ld['posts']} post(s); {sent}")
    subs = info["subscribers"]
    lines.append(f"subscribers:  {subs['active']} active (the digest goes to them)"
                 + "".join(f", {n} {s}" for s, n in subs.items() if n and s != "active"))
    c = info["counts"]
    quarantined = f", {c['dumps_quarantined']} quarantined" if c["dumps_quarantined"] else ""
    lines.append(f"stored:       {c['dumps']} dump(s) ({c['dumps_skipped']} skipped{quarantined}), {c['entries']} "
                 f"entries, {c['digests_mailed']} digest(s) mailed, {c['digests_archived']} past week(s) archived")
    for q in info["quarantined"]:
        then = "the file is gone" if q["gone"] else "a bug in feeds: read again when the file or feeds changes"
        lines.append(f"quarantined:  {q['path']}: {q['reason']} (since {_local(q['since'], info)}; {then})")
    for u in info["undelivered"]:
        lines.append(f"not sent:     {u['period']} {u['recipient']}: {u['status']} after {u['attempts']} "
                     f"attempt(s){': ' + u['reply'] if u['reply'] else ''}")
    return "\n".join(lines)


def _local(text: str, info: dict[str, Any]) -> str:
    from zoneinfo import ZoneInfo

    moment = from_iso(text).astimezone(ZoneInfo(info["time_zone"]))
    return f"{moment:%a %d %b %Y %H:%M} {info['time_zone']}"
