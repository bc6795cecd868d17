"""Marathon's REST API v2: thin Flask blueprints over `Marathon` (parse, call, render)."""
