"""The case procedure (办理流程): per-county workflow files (`spec`, `templates`), working-day
deadlines (`calendar`), the engine of actions (`engine`), department checks (`departments`),
the evidence rules (`checks`) and what waits for whom (`todo`)."""
