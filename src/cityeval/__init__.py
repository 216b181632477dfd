"""cityeval: smart-city evaluations of local governments, from self-assessment to results."""

__version__ = "0.1.0"
