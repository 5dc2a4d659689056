"""The case file an operator hands out: a zip with everything about one case, and its check."""
