"""Dating: the publication date of every post, from what the dumps say (pure).

`mentions` finds the dates a text mentions; `infer` turns a newest-first page of posts
and their mentions into dates; `pages` dates a batch of dumps together with the stored
pages linked to it (the snapshot the store read for it).
"""
