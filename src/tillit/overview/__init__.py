"""The staff home: the state of the relationship on one page, drawn from every area."""
