"""The enterprises app's pure domain (no Django): the credit line's arithmetic."""
