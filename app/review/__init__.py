"""Review workflow: second-person review, public notice, objections and self-reports."""
