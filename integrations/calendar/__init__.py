"""Calendar integrations: our CalendarEvents out to iCal feeds and other calendars."""
