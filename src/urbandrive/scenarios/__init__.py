"""Built-in scenarios: the procedural town (`urbandrive.scenarios.town`); scenario families
and the on-disk store come later."""
