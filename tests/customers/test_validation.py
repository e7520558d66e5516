"""Identifier checks of customer records, with real samples and real check digits."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from crm.customers.validation import (
    Problems,
    birthday_from_id_number,
    check_credit_code,
    check_email,
    check_id_number,
    check_mobile,
    check_plate,
    check_postcode,
    check_vin,
    id_check_character,
    normalise_mobile,
    vin_check_digit,
)
from tenants.errors import InvalidInput


def problem_of(call, *args):
    with pytest.raises(InvalidInput) as error:
        call(*args)
    [problem] = error.value.problems
    assert problem.zh and problem.en
    return problem


# --- mobile numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "+86 138 0013 8000", "+86-138-0013-8000", "0086 13800138000", "8613800138000", "138-0013-8000",
     "(138) 0013 8000", "\uff08138\uff09 0013 8000"],
)
def test_mobile_is_normalised(raw):
    assert check_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["19912345678", "16601234567", "14712345678"])
def test_newer_mobile_ranges_are_valid(raw):
    assert check_mobile(raw) == raw


@pytest.mark.parametrize(
    "raw", ["12800138000", "1380013800", "138001380001", "010-88886666", "abc", "", "+44 20 7946 0958"]
)
def test_invalid_mobile_numbers(raw):
    problem = problem_of(check_mobile, raw)
    assert problem.field == "mobile"
    assert "手机号" in problem.zh


def test_normalise_mobile_keeps_short_numbers_for_suffix_search():
    assert normalise_mobile(" 8000 ") == "8000"


# --- VIN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vin",
    [
        "1M8GDM9AXKP042788",  # the textbook example: check digit X
        "11111111111111111",
        "LSVAU218XN2183294",  # SAIC-Volkswagen prefix, check digit computed
        "LFV2A21K1A3012345",  # FAW-Volkswagen
        "LVSHCAMB1CE123456",  # Changan Ford
        "LHGCR2654E8012345",  # GAC Honda
    ],
)
def test_valid_vins(vin):
    assert check_vin(vin) == vin
    assert check_vin(vin.lower()) == vin


def test_check_digit_is_computed_not_guessed():
    assert vin_check_digit("1M8GDM9A_KP042788") == "X"
    assert vin_check_digit("LSVAU218_N2183294") == "X"
    assert vin_check_digit("LHGCR265_E8012345") == "4"


@pytest.mark.parametrize(
    ("vin", "needle"),
    [
        ("LSVAU2180N2183294", "校验位"),  # wrong check digit
        ("LSVAU218XN218329", "17位"),  # 16 characters
        ("LSVAU218XN21832945", "17位"),  # 18 characters
        ("LSVAU218XN2I83294", "I、O、Q"),
        ("LSVAO218XN2183294", "I、O、Q"),
        ("QSVAU218XN2183294", "I、O、Q"),
        ("LSVAU218XN218329-", "17位"),  # the dash is dropped, 16 remain
        ("LSVAU218XN218329*", "字母和数字"),
    ],
)
def test_invalid_vins(vin, needle):
    problem = problem_of(check_vin, vin)
    assert problem.field == "vin"
    assert needle in problem.zh


# --- plates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "plate"),
    [
        ("京A12345", "京A12345"),
        ("沪B·8C9D7", "沪B8C9D7"),
        ("粤b 12345", "粤B12345"),
        ("苏E1234学", "苏E1234学"),
        ("粤AD12345", "粤AD12345"),  # new-energy small car, pure electric
        ("粤AF12345", "粤AF12345"),  # new-energy small car, other
        ("京ADA1234", "京ADA1234"),
        ("沪A12345F", "沪A12345F"),  # new-energy large vehicle
        ("川A12345D", "川A12345D"),
    ],
)
def test_valid_plates(raw, plate):
    assert check_plate(raw) == plate


@pytest.mark.parametrize(
    "raw",
    [
        "A12345",  # no province
        "X京12345",
        "京12345A",  # office letter missing
        "京A1234",  # too short
        "京A123456",  # 8 characters but not a new-energy pattern
        "京AI2345",  # I is not used in serials
        "京AO2345",
        "港A12345",  # not a mainland province abbreviation
        "粤AD1234X",  # new-energy small cars end in 4 digits
        "京AD1A345",
    ],
)
def test_invalid_plates(raw):
    problem = problem_of(check_plate, raw)
    assert problem.field == "plate"
    assert "车牌" in problem.zh


# --- ID numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["11010519491231002X", "440301199003071230", "310115198512124568", "510104200002291233"],
)
def test_valid_id_numbers(number):
    assert check_id_number(number) == number
    assert id_check_character(number) == number[-1]


def test_id_number_lower_case_x_is_normalised():
    assert check_id_number("11010519491231002x") == "11010519491231002X"


def test_birthday_comes_from_the_id_number():
    assert birthday_from_id_number("510104200002291233") == date(2000, 2, 29)


@pytest.mark.parametrize(
    ("number", "needle"),
    [
        ("110105194912310021", "校验位"),  # checksum says X
        ("440301199003071231", "校验位"),
        ("44030119900307123", "18位"),
        ("4403011990030712300", "18位"),
        ("44030119900307123A", "18位"),
        ("440301199002301234", "出生日期"),  # 30 February
        ("510104190102291234", "出生日期"),  # 1901 was not a leap year
        ("440301189001011234", "出生日期"),  # before 1900
    ],
)
def test_invalid_id_numbers(number, needle):
    problem = problem_of(check_id_number, number)
    assert problem.field == "id_number"
    assert needle in problem.zh


def test_id_number_born_in_the_future_is_invalid():
    number = "44030120300101123"
    number += id_check_character(number)
    with time_machine.travel("2026-01-01T00:00:00Z", tick=False):
        assert "出生日期" in problem_of(check_id_number, number).zh
    with time_machine.travel("2031-01-01T00:00:00Z", tick=False):
        assert check_id_number(number) == number


# --- company codes, postcodes, e-mail ------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_valid_credit_codes(code):
    assert check_credit_code(code) == code


def test_credit_code_with_a_wrong_check_character():
    assert "校验位" in problem_of(check_credit_code, "91350100M000100Y44").zh


@pytest.mark.parametrize("raw", ["100005", " 200001 "])
def test_valid_postcodes(raw):
    assert check_postcode(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["10000", "1000051", "10000A"])
def test_invalid_postcodes(raw):
    assert problem_of(check_postcode, raw).field == "postcode"


def test_email_domain_is_lower_cased():
    assert check_email(" Wang.Li@Example.COM ") == "Wang.Li@example.com"


@pytest.mark.parametrize("raw", ["wang", "wang@", "@example.com", "wang@example", "wang li@example.com"])
def test_invalid_emails(raw):
    assert problem_of(check_email, raw).field == "email"


# --- collecting problems -------------------------------------------------------------------


def test_problems_collects_every_field_before_raising():
    problems = Problems()
    assert problems.check(check_mobile, "+86 139 1234 5678", "mobile") == "13912345678"
    problems.check(check_vin, "LSVAU2180N2183294", "vin")
    problems.check(check_plate, "京A1234", "plate")
    with pytest.raises(InvalidInput) as error:
        problems.raise_if_any()
    assert [p.field for p in error.value.problems] == ["vin", "plate"]
