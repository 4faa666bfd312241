"""The worker's side of Inkdex: from a queued note to its stored lines."""
