"""The web console: server-rendered pages for every role (Django templates, no CDN)."""
