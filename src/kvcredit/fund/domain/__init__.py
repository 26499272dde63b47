"""Pure fund rules: double-entry books, compensation, recovery sharing, breaker, service fees."""
