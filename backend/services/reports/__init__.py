"""What a county is judged on: the monthly progress forms (004 附件1/2), the towns' annual
tasks and the weekly ranking (000), and when each report is due."""
