"""Name lists for fictional demo customers, per country. Common given and family names only,
combined at random, so no generated person is meant to be anyone real."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    locale: str
    time_zone: str
    phone_prefix: str  # + country code and a mobile range; random digits complete the number
    phone_digits: int
    given: tuple[str, ...]
    family: tuple[str, ...]
    cities: tuple[str, ...]


COUNTRIES = (
    Country("DK", "da-DK", "Europe/Copenhagen", "+452", 7,
            ("Anne", "Mette", "Kirsten", "Hanne", "Freja", "Ida", "Sofie", "Emma", "Lærke", "Signe",
             "Peter", "Jens", "Lars", "Søren", "Mikkel", "Rasmus", "Frederik", "Magnus", "Asger", "Bjørn"),
            ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
             "Sørensen", "Rasmussen", "Jørgensen", "Madsen", "Kristensen", "Østergaard", "Mølgaard"),
            ("København", "Aarhus", "Odense", "Aalborg", "Esbjerg", "Randers", "Kolding", "Vejle")),
    Country("SE", "sv-SE", "Europe/Stockholm", "+4670", 7,
            ("Anna", "Eva", "Maria", "Karin", "Sara", "Elsa", "Astrid", "Maja", "Wilma", "Ebba",
             "Erik", "Lars", "Karl", "Johan", "Anders", "Oskar", "Nils", "Gustav", "Björn", "Åke"),
            ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
             "Persson", "Svensson", "Gustafsson", "Lindqvist", "Åberg", "Ström", "Sjöberg"),
            ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Umeå")),
    Country("NO", "nb-NO", "Europe/Oslo", "+479", 7,
            ("Kari", "Ingrid", "Liv", "Nora", "Sigrid", "Solveig", "Ragnhild", "Tone", "Åse", "Marit",
             "Ole", "Knut", "Per", "Jan", "Håkon", "Sindre", "Eirik", "Øyvind", "Torstein", "Arne"),
            ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
             "Haugen", "Berg", "Bakke", "Solberg", "Strand", "Lunde"),
            ("Oslo", "Bergen", "Trondheim", "Stavanger", "Drammen", "Kristiansand", "Tromsø", "Bodø")),
    Country("NL", "nl-NL", "Europe/Amsterdam", "+316", 8,
            ("Anna", "Emma", "Sanne", "Lotte", "Fleur", "Femke", "Noor", "Julia", "Anouk", "Ilse",
             "Daan", "Sem", "Lucas", "Jeroen", "Bram", "Thijs", "Ruben", "Pieter", "Joost", "Maarten"),
            ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit",
             "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos"),
            ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg", "Leiden")),
    Country("GB", "en-GB", "Europe/London", "+447", 9,
            ("Olivia", "Amelia", "Isla", "Emily", "Grace", "Sophie", "Charlotte", "Ruby", "Alice", "Freya",
             "Oliver", "George", "Harry", "Jack", "Thomas", "James", "William", "Noah", "Alfie", "Arthur"),
            ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
             "Wright", "Evans", "Walker", "Thompson", "Roberts"),
            ("London", "Manchester", "Birmingham", "Leeds", "Bristol", "Edinburgh", "Cardiff", "Belfast")),
)
