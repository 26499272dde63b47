"""The risk compensation fund."""
