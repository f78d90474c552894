"""coinfer tests, one folder per problem kind plus ``common``."""
