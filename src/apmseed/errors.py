"""One exception type for every problem a user can fix; the CLI prints it as one line."""


class ApmseedError(Exception):
    """A user-facing error: ``str(err)`` names the problem and the fix."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} ({fix})" if fix else problem)
