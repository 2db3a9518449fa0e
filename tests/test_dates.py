from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from feeds.dating import infer, mentions


def test_mentions_in_several_forms():
    text = ("On Saturday February 15, 2025 the conference met; the webinar of 16 February 2025 followed. "
            "BEIJING, Feb. 10 (Xinhua) — On January 26, and on the 2nd of March. (February 3, 1930 – 2025)")
    got = [(m.month, m.day, m.year, m.weekday) for m in mentions.find_mentions(text)]
    assert got == [(2, 15, 2025, 5), (2, 16, 2025, None), (2, 10, None, None), (1, 26, None, None),
                   (3, 2, None, None), (2, 3, 1930, None)]


def test_not_dates():
    assert mentions.find_mentions("You may 3 times try. March 2025 was warm. A 15 percent rise. In 1964 they met.") == []


def test_year_from_weekday_and_reference():
    m = mentions.find_mentions("on Monday January 13")[0]
    assert mentions.resolve(m, date(2025, 6, 1)) == date(2025, 1, 13)  # a Monday in 2025
    m = mentions.find_mentions("Dec. 30")[0]
    assert mentions.resolve(m, date(2025, 1, 5)) == date(2024, 12, 30)  # nearest the reference


def test_future_event_and_history_are_rejected():
    d = date.fromisoformat
    # Three posts above an announcement of an event on the 20th: accepting that date would
    # make all three later than what they report.
    cands = [[d("2025-02-10")], [d("2025-02-09")], [d("2025-02-09")], [d("2025-02-20")],
             [d("2025-02-06")], [d("1964-01-09")], [d("2025-02-01")]]
    got = infer.choose(cands)
    assert got[:3] == [d("2025-02-10"), d("2025-02-09"), d("2025-02-09")]
    assert got[3] is None and got[5] is None
    assert got[4] == d("2025-02-06") and got[6] == d("2025-02-01")


def test_fixed_dates_are_kept():
    d = date.fromisoformat
    got = infer.choose([[d("2025-02-10")], [d("2025-02-08")]], fixed=[False, True])
    assert got[1] == d("2025-02-08")


def test_upper_bound():
    cands = mentions.candidates(mentions.post_mentions(["It happened on 10 March 2025 and on 1 March 2025."]), None,
                             date(2025, 3, 5))
    assert cands == [date(2025, 3, 1)]


@given(st.lists(st.lists(st.dates(date(2020, 1, 1), date(2026, 1, 1)), max_size=4), max_size=12))
def test_infer_never_increases_down_the_page(cands):
    got = infer.fill(infer.choose([sorted(set(c), reverse=True) for c in cands]))
    known = [g for g in got if g is not None]
    assert known == sorted(known, reverse=True)
    assert len(got) == len(cands)


def test_page_times_keep_order_within_a_day():
    tz = ZoneInfo("Europe/London")
    times = infer.at_page_time([date(2025, 2, 2), date(2025, 2, 2), date(2025, 2, 1), None], tz)
    assert times[0] > times[1] > times[2] and times[3] is None
    assert times[0].utcoffset() == timedelta(0)


@given(st.lists(st.one_of(st.none(), st.dates(date(2024, 1, 1), date(2024, 1, 10))), max_size=30),
       st.dates(date(2024, 1, 1), date(2024, 1, 12)))
def test_a_new_post_on_top_leaves_the_times_below_it(days, new):
    # Seconds count from the bottom of a day: a newer post above the page, as the next
    # dump shows it, moves no time of the posts already there.
    tz = ZoneInfo("America/New_York")
    known = sorted((d for d in days if d is not None), reverse=True)
    new = max([new, *known])
    ordered = iter(known)  # newest first; posts with no date stay where they are
    days = [None if d is None else next(ordered) for d in days]
    before = infer.at_page_time(days, tz)
    after = infer.at_page_time([new, *days], tz)
    assert after[1:] == before
    times = [t for t in after if t is not None]
    assert times == sorted(set(times), reverse=True), "page order, no two alike"


def test_page_times_keep_order_around_a_fixed_time():
    # A settled post stored at 11:59, after an earlier pass saw it and two posts above
    # it (or its day began later): those above come after it, and those below before it.
    tz = ZoneInfo("Europe/London")
    day = date(2025, 2, 2)
    stored = datetime(2025, 2, 2, 11, 59, tzinfo=tz)
    times = infer.at_page_time([day] * 6, tz, fixed=[None, None, None, stored, None, None])
    assert times[3] == stored
    assert times[0] > times[1] > times[2] > times[3] > times[4] > times[5]
    assert [t.strftime("%H:%M:%S") for t in times] == ["12:00:05", "12:00:04", "12:00:03", "11:59:00", "11:58:59",
                                                       "11:58:58"]
    # No post comes after the dump that showed it was written, even to stay above a fixed time.
    written = datetime(2025, 2, 2, 11, 30, tzinfo=tz)
    capped = infer.at_page_time([day] * 2, tz, [written, written], fixed=[None, stored])
    assert capped[0] == written and capped[1] == stored


def test_thousands_of_posts_on_one_day_stay_on_that_day():
    """A history with few dates piles many posts on one day: their times stay within it
    (a minute apart, the 721st ran into the next day), in page order."""
    tz = ZoneInfo("Europe/London")
    day = date(2025, 2, 8)
    times = infer.at_page_time([date(2025, 2, 9)] + [day] * 5000 + [date(2025, 2, 7)], tz)
    assert {t.date() for t in times[1:-1]} == {day} and times[0].date() == date(2025, 2, 9)
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)


def test_merge_orders_joins_overlapping_pages():
    assert infer.merge_orders([["a", "b", "c"], ["b", "c", "d", "e"]]) == ["a", "b", "c", "d", "e"]
    assert infer.merge_orders([["x", "y"], ["p", "q"]]) == ["x", "y", "p", "q"]


def _merge_by_definition(pages: list[list[str]]) -> list[str]:
    """merge_orders as its docstring defines it, the slow plain way: repeatedly place the
    first key in page order whose keys above (on any page) are placed; in a cycle, the
    first key in page order."""
    above: dict[str, set[str]] = {}
    rank: dict[str, tuple[int, int]] = {}
    for p, keys in enumerate(pages):
        for i, k in enumerate(keys):
            rank.setdefault(k, (p, i))
            above.setdefault(k, set()).update(keys[i - 1:i])
    done: list[str] = []
    pending = sorted(rank, key=rank.__getitem__)
    while pending:
        ready = next((k for k in pending if above[k] <= set(done)), pending[0])
        done.append(ready)
        pending.remove(ready)
    return done


@given(st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=8), max_size=6))
def test_merge_orders_is_the_defined_order(pages):
    # any pages: overlapping, disagreeing (cycles), showing a key twice
    assert infer.merge_orders(pages) == _merge_by_definition(pages)


def test_merge_orders_of_a_long_linked_history():
    # 2,000 pages of 20 posts, each sharing 2 with the next, given oldest page first (dumps
    # named by the date they were saved): the newest posts are last in page order. (The
    # first implementation scanned every waiting key for each key it placed: quadratic, 5 s
    # for 500 such pages.)
    pages = [[f"p{18 * n + i}" for i in range(20)] for n in range(2000)]
    assert infer.merge_orders(pages[::-1]) == infer.merge_orders(pages) == [f"p{i}" for i in range(18 * 1999 + 20)]


def test_a_post_does_not_drop_a_later_date_it_reports():
    d = date.fromisoformat
    # a republished wire story dated the 10th, under a post that mentions the 8th
    got = infer.choose([[d("2025-02-08")], [d("2025-02-10"), d("2025-02-08")], [d("2025-02-06")]])
    assert got[1] == d("2025-02-10") and got[0] == d("2025-02-10")


def test_an_announcement_with_few_posts_above_it_is_still_rejected():
    d = date.fromisoformat
    cands = [[d("2025-01-28")], [d("2025-01-26")], [d("2025-02-01"), d("2025-01-11")], [d("2025-01-21")]]
    got = infer.choose(cands)
    assert got[2] is None and got[0] == d("2025-01-28")


def test_relative_year_words():
    m = mentions.find_mentions("recorded in Brazzaville on February 23 last year, one day after")[0]
    assert m.shift == -1 and mentions.resolve(m, date(2025, 1, 10)) == date(2024, 2, 23)
    m = mentions.find_mentions("the parade on 3 September this year")[0]
    assert mentions.resolve(m, date(2025, 1, 21)) == date(2025, 9, 3)


def _choose_reference(cands, fixed=()):
    """choose() as first written, trying every candidate of every post against every state:
    the oracle for the faster choose(), which skips the options that cannot win."""
    n = len(cands)
    is_fixed = [i < len(fixed) and fixed[i] for i in range(n)]
    states = {None: (0, 0)}
    steps = []
    for i in range(n - 1, -1, -1):
        new, back = {}, {}
        for m, (cost, neg) in states.items():
            options = []
            if not is_fixed[i] and cands[i]:
                later = len(cands[i]) if m is None else sum(1 for x in cands[i] if x > m)
                options.append((m, (cost + infer.REJECT_COST * max(later, 1), neg), None))
            elif not cands[i]:
                options.append((m, (cost, neg), None))
            for c in cands[i]:
                if is_fixed[i] and m is not None and m > c:
                    continue
                top = c if m is None or c > m else m
                later = sum(1 for x in cands[i] if x > top)
                options.append((top, (cost + (top - c).days + infer.REJECT_COST * later, neg - c.toordinal()), c))
            for target, option_cost, pick in options:
                if target not in new or option_cost < new[target]:
                    new[target] = option_cost
                    back[target] = (m, pick)
        if not new:
            new, back = dict(states), {m: (m, None) for m in states}
        states = new
        steps.append(back)
    m = min(states, key=lambda k: states[k])
    out = []
    for back in reversed(steps):
        prev, pick = back[m]
        out.append(m if pick is not None else None)
        m = prev
    if len(out) > 1 and out[0] and out[1] and out[0] - out[1] > infer.HISTORY_GAP and not is_fixed[0]:
        out[0] = None
    return out


_day = st.integers(0, 60).map(lambda k: date(2025, 1, 1) + timedelta(days=k * 3))


@given(st.lists(st.tuples(st.sets(_day, max_size=5), st.booleans()), max_size=12))
def test_choose_is_the_exhaustive_search(posts):
    cands = [sorted(days, reverse=True) for days, _ in posts]
    fixed = [f and len(days) == 1 for days, f in posts]  # a settled post has its one date
    assert infer.choose(cands, fixed) == _choose_reference(cands, fixed)


_around_months = st.text(alphabet="0123 16th of,.Sat Saturday Mon the\u00a0\n", max_size=14)


@given(_around_months, st.sampled_from(["February", "Feb.", "MARCH", "May"]), _around_months)
def test_quick_tests_before_a_month_never_miss_a_match(before, month, after):
    """find_mentions() skips its searches back from a month when _day_before() or
    _weekday_before() says they cannot match: they must never say so wrongly."""
    text = before + month + after
    at = len(before)
    if mentions._BEFORE.search(text, max(0, at - 32), at):
        assert mentions._day_before(text, at)
    if mentions._WD_BEFORE.search(text, max(0, at - 12), at):
        assert mentions._weekday_before(text, at)


_date_words = st.sampled_from(["16", "2nd", "of", "the", "Saturday", "Mon.", ",", "February", "Feb.", "MARCH",
                                "May", "2025", "1930", "next year", "2025-02-16", "per", "%", "x", "\u00a0"])
_datey = st.lists(_date_words, max_size=8).map(" ".join)


@given(st.lists(st.lists(_datey, max_size=3), max_size=5))
def test_mentions_of_many_posts_in_one_pass_are_each_posts_own(posts):
    """posts_mentions() scans the posts' texts joined: no date may reach across posts."""
    assert mentions.posts_mentions(posts) == [mentions.post_mentions(p) for p in posts]


def test_no_date_reaches_across_posts():
    posts = [["a report of 16"], ["February 2025 next year"], ["Saturday"], ["February 3", "the 16th of"], ["May"]]
    assert mentions.posts_mentions(posts) == [[], [], [], [(2, 3, None, None, None)], []]
    assert mentions.posts_mentions([["it was 16 February"], ["2025, they said"]]) == [[(2, 16, None, None, None)], []]
    assert mentions.posts_mentions([["late in February"], ["16 were there"]]) == [[], []]


def test_a_letter_that_only_looks_like_a_weekdays_is_not_a_crash():
    """The weekday patterns ignore case, and so take "Frıday" (dotless ı) and "ſun" (long s):
    such a weekday is no weekday, not a KeyError that would stop the dump being read."""
    assert mentions.find_mentions("Frıday 16 February 2025") == [(2, 16, 2025, None, None)]
    assert mentions.find_mentions("ſun, 16 February") == [(2, 16, None, None, None)]
