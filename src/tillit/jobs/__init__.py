"""The periodic work of the jobs process (``tillit jobs run``), every round in one list."""
