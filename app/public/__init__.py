"""Pages without login: the household QR page."""
