"""Local development helpers: the one-command stack, an embedded Redis and a mail catcher."""
