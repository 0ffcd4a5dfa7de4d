"""Google: OAuth 2.0 (oauth) and the plumbing Google API clients share (api)."""
