"""Publishing: what is due is planned from data (`plan`), renderers turn each output into bytes
(`pages`, `feeds`, `jsonfeed`, from `templates`), and one module writes under out/ (`files`).
`stage.publish` runs the step: read → plan → render → write.

(Nothing is imported here: `feeds.publish.files` or `templates`, which the digest uses, do not
load feedgen.)
"""
