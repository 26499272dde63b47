"""The console's views by area; each parses, calls one service or read, and renders."""
