"""The web chat channel: the widget talks to Frontline over a WebSocket (``frontline.realtime``)."""
