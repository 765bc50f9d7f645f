"""Click commands only: parse options, call a service, render. No logic lives here."""
