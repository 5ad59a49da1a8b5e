"""Staff diagnostics: the health board, the shopper timeline, the error catalogue, actions and
`manage.py doctor`. Reads the state the pipeline writes; its actions call the domain services."""
