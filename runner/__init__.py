"""jobmon runner: schedules and executes jobs, records their lifecycle in a SQL database."""

__version__ = "0.1.0"
