"""intervals.icu API v1: activities (minus Strava stubs), planned runs, and our sessions pushed."""
