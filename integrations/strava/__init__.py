"""Strava API v3: OAuth, activities (through stravalib), mapping to our types, webhooks."""
