"""A progress bar for long management commands."""


class Progress:
    """A one-line progress bar on a terminal; plain lines elsewhere."""

    WIDTH = 30

    def __init__(self, total: int, stream) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.tty = getattr(stream, "isatty", lambda: False)()

    def step(self, label: str) -> None:
        self.done += 1
        filled = self.WIDTH * self.done // self.total
        bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} {label[:40]}"
        if self.tty:
            self.stream.write("\r" + bar.ljust(90), ending="")
            self.stream.flush()
        elif self.done == self.total or self.done % max(1, self.total // 10) == 0:
            self.stream.write(bar)

    def clear(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 90 + "\r", ending="")

    def finish(self) -> None:
        if self.tty:
            self.stream.write("")
