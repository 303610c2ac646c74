"""Training code for the shelf-gap detector (run by hand; never imported at run time)."""
