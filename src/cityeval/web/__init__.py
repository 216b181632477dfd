"""The cityeval web platform (Django): stores inputs, enforces who may do what, calls the engine."""
