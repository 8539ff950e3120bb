"""The personalization agent: request -> context -> prompt -> generate -> guard -> score -> draft."""
