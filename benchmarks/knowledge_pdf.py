"""The knowledge benchmark's PDFs: a generated multi-page handbook (fpdf2: chapters, numbered
sections, paragraphs, bullet lists, a running header and footer) in English or, when the
DejaVu font is installed, in Russian."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


EN = {
    "topics": [
        "bookings",
        "payments",
        "refunds",
        "cancellations",
        "travel insurance",
        "visas and passports",
        "airport transfers",
        "hotels",
        "group tours",
        "luggage",
        "loyalty programme",
        "gift certificates",
        "children and infants",
        "special diets",
        "accessibility",
        "complaints",
    ],
    "subjects": [
        "The customer",
        "Your personal manager",
        "Our support team",
        "The travel agent",
        "Every guest",
        "The booking system",
        "Each traveller",
        "The tour operator",
        "The partner hotel",
        "The payment provider",
        "The tour guide",
        "The group leader",
    ],
    "verbs": [
        "can request",
        "must confirm",
        "receives",
        "should check",
        "may change",
        "will refund",
        "pays for",
        "can cancel",
        "books",
        "updates",
        "sends out",
        "keeps a copy of",
        "is responsible for",
        "needs to sign",
    ],
    "objects": [
        "the prepayment",
        "a full refund",
        "the travel insurance policy",
        "the booking reference",
        "the final invoice",
        "a seat upgrade",
        "the transfer from the airport",
        "the visa documents",
        "the hotel voucher",
        "the excursion programme",
        "the meal plan",
        "an extra night",
        "the luggage allowance",
        "the cancellation fee",
        "the loyalty points",
        "a gift certificate",
    ],
    "tails": [
        "within {n} days",
        "before departure",
        "by bank transfer",
        "at no extra cost",
        "after the trip",
        "in the mobile app",
        "at our office on Main Street",
        "if the tour is cancelled",
        "for groups of more than {n} people",
        "no later than {n} hours before check-in",
        "for a fee of {n} euros",
        "on the day of arrival",
        "once the payment has cleared",
        "unless the contract says otherwise",
    ],
    "bullets": [
        "Pay by card",
        "Pay by bank transfer",
        "Pay in cash at the office",
        "Bring your passport",
        "Keep the booking reference",
        "Check the weather forecast",
        "Call us if your flight is delayed",
    ],
    "chapter": "Chapter",
    "rules": "Rules for",
    "header": "ACME Travel - Customer handbook",
    "footer": "Page {page}",
}

RU = {
    "topics": [
        "бронирование",
        "оплата",
        "возврат денег",
        "отмена тура",
        "страховка",
        "визы и паспорта",
        "трансфер",
        "гостиницы",
        "групповые туры",
        "багаж",
        "программа лояльности",
        "подарочные сертификаты",
        "дети",
        "питание",
        "доступная среда",
        "жалобы",
    ],
    "subjects": [
        "Клиент",
        "Персональный менеджер",
        "Служба поддержки",
        "Турагент",
        "Каждый гость",
        "Система бронирования",
        "Каждый турист",
        "Туроператор",
        "Отель-партнёр",
        "Платёжный сервис",
        "Гид",
        "Руководитель группы",
    ],
    "verbs": [
        "может запросить",
        "должен подтвердить",
        "получает",
        "проверяет",
        "может изменить",
        "возвращает",
        "оплачивает",
        "может отменить",
        "бронирует",
        "обновляет",
        "отправляет",
        "хранит копию",
        "отвечает за",
        "подписывает",
    ],
    "objects": [
        "предоплату",
        "полный возврат",
        "страховой полис",
        "номер брони",
        "итоговый счёт",
        "место повышенной комфортности",
        "трансфер из аэропорта",
        "визовые документы",
        "ваучер на отель",
        "программу экскурсий",
        "питание",
        "дополнительную ночь",
        "норму багажа",
        "штраф за отмену",
        "бонусные баллы",
        "подарочный сертификат",
    ],
    "tails": [
        "в течение {n} дней",
        "до начала поездки",
        "банковским переводом",
        "без доплаты",
        "после возвращения",
        "в мобильном приложении",
        "в нашем офисе на Ленина",
        "если тур отменён",
        "для групп больше {n} человек",
        "не позднее чем за {n} часов до заселения",
        "за {n} рублей",
        "в день приезда",
        "после поступления оплаты",
        "если договор не говорит иное",
    ],
    "bullets": [
        "Оплата картой",
        "Оплата банковским переводом",
        "Оплата наличными в офисе",
        "Возьмите с собой паспорт",
        "Сохраните номер брони",
        "Проверьте прогноз погоды",
        "Позвоните нам, если рейс задерживается",
    ],
    "chapter": "Глава",
    "rules": "Правила:",
    "header": "АКМЕ Тревел - Памятка клиента",
    "footer": "Страница {page}",
}


def _sentence(rng: random.Random, words: dict[str, Any]) -> str:
    tail = rng.choice(words["tails"]).format(n=rng.choice((2, 3, 5, 7, 10, 14, 30, 48, 150)))
    return (
        f"{rng.choice(words['subjects'])} {rng.choice(words['verbs'])} "
        f"{rng.choice(words['objects'])} {tail}."
    )


def make_pdf(pages: int, lang: str, seed: int = 1) -> bytes:
    """A handbook of about ``pages`` pages: chapters, numbered sections, paragraphs of 3-7
    sentences, bullet lists, a running header and a page footer (which parsing drops)."""
    from fpdf import FPDF

    words = RU if lang == "ru" else EN
    rng = random.Random(seed)

    class Handbook(FPDF):  # type: ignore[misc]
        def header(self) -> None:
            self.set_font(family, "", 8)
            self.cell(0, 5, str(words["header"]), new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font(family, "", 8)
            self.cell(0, 5, str(words["footer"]).format(page=self.page_no()), align="C")

    pdf = Handbook()
    line = {"new_x": "LMARGIN", "new_y": "NEXT"}
    if lang == "ru":
        family = "DejaVu"
        pdf.add_font(family, "", str(DEJAVU))
        pdf.add_font(family, "B", str(DEJAVU_BOLD if DEJAVU_BOLD.is_file() else DEJAVU))
    else:
        family = "Helvetica"
    pdf.set_auto_page_break(True, 20)
    pdf.add_page()
    chapter = 0
    while True:
        chapter += 1
        topic = words["topics"][(chapter - 1) % len(words["topics"])]
        pdf.set_font(family, "B", 18)
        pdf.multi_cell(0, 10, f"{words['chapter']} {chapter}. {topic.capitalize()}", **line)
        pdf.ln(2)
        for section in range(1, rng.randint(3, 6)):
            if pdf.page_no() >= pages and pdf.get_y() > 180:
                return bytes(pdf.output())
            pdf.set_font(family, "B", 13)
            pdf.multi_cell(0, 8, f"{chapter}.{section} {words['rules']} {topic}", **line)
            pdf.set_font(family, "", 11)
            for _ in range(rng.randint(1, 3)):
                text = " ".join(_sentence(rng, words) for _ in range(rng.randint(3, 7)))
                pdf.multi_cell(0, 6, text, **line)
                pdf.ln(3)
            if rng.random() < 0.4:
                for item in rng.sample(words["bullets"], rng.randint(2, 4)):
                    pdf.multi_cell(0, 6, f"- {item}", **line)
                pdf.ln(3)
