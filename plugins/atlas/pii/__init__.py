"""Personal data: the Presidio analyzer built from configuration, and column classification."""
