"""The KKPD tests' bank statement (three purchases on region A's cards) and its upload."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

HEADER = "reference,card,date,merchant,merchant_id,mcc,amount,kind,receipt_date\n"


# R2 is on Saturday 1 June 2024 (outside_working_days); R3 is a hotel (MCC 7011, a travel
# category) on a goods card (card_type_mismatch). R1 is clean.
STATEMENT = HEADER + (
    "R1,1111,2024-06-03,Toko ATK Maju,M1,5111,1500000,purchase,2024-06-04\n"
    "R2,1111,2024-06-01,Toko ATK Maju,M1,5111,700000,purchase,2024-06-02\n"
    "R3,2222,2024-06-04,Hotel Sejahtera,M2,7011,900000,purchase,2024-06-05\n"
)


AS_OF = dt.date(2024, 7, 1)


def upload(text: str, name: str = "statement.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
