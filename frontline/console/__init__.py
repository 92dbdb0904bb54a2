"""Server-rendered operator console, its static assets and the web chat widget script."""
