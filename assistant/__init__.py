"""The read path: retrieve -> evidence -> answer, served by a CLI, a web chat and an API."""

__version__ = "0.1.0"
