"""Method implementations, one subpackage per problem kind.

Kept apart from the problem-named front-ends (``solvers.partition(...)``,
``solvers.exits(...)``) so that importing a kind's methods never shadows its
front-end function.
"""
