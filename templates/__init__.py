"""The built-in templates and the feeds' stylesheet, shipped as package data (``feeds.templates``).

They are edited here, in the repository's top-level ``templates/``; ``[output] templates``
names a folder whose files replace these one by one.
"""
