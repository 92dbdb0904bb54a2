"""The console's strings for the owner's side (settings, analytics, the platform pages) and
the names of handoff reasons and built-in categories, Russian and English; merged into
:mod:`frontline.console.i18n` (same ``key -> (ru, en)`` form)."""

from __future__ import annotations

ADMIN_STRINGS: dict[str, tuple[str, str]] = {
    # handoff reasons (frontline.conversations.reasons.ReasonCode)
    "reason.human_requested": ("Клиент попросил оператора", "The customer asked for a person"),
    "reason.customer_upset": ("Клиент расстроен", "The customer seems upset"),
    "reason.billing_dispute": ("Спор об оплате", "Billing dispute"),
    "reason.no_confident_answer": (
        "В базе знаний нет уверенного ответа",
        "No confident answer in the knowledge base",
    ),
    "reason.invalid_output": ("Модель ответила не по формату", "Invalid model output"),
    "reason.escalated": ("ИИ передал разговор", "Escalated by the AI"),
    "reason.other": ("Другая причина", "Other reason"),
    # the demo's built-in categories
    "category.builtin.booking": ("Бронирование", "Booking"),
    "category.builtin.payment": ("Оплата", "Payment"),
    "category.builtin.complaint": ("Жалоба", "Complaint"),
    "category.builtin.other": ("Другое", "Other"),
}
