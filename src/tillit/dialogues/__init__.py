"""Voice of the customer: questions, asks, responses, fatigue rules and the closed loop (cases).

Domain code only: no web framework. The faces are ``tillit.web.pages.dialogues``,
``tillit.web.pages.dialogues_staff``, ``tillit.web.api.dialogues`` and ``tillit cases``.
"""
