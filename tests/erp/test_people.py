from django.contrib.auth import get_user_model

from erp.kernel.people import person_name


def _user(first="", last="", username="u1"):
    return get_user_model()(username=username, first_name=first, last_name=last)


def test_person_name_prints_chinese_names_family_name_first_without_a_space():
    assert person_name(_user(first="娜", last="李")) == "李娜"


def test_person_name_prints_other_names_given_name_first():
    assert person_name(_user(first="Wei", last="Zhang")) == "Wei Zhang"


def test_person_name_falls_back_to_the_username():
    assert person_name(_user(username="warehouse1")) == "warehouse1"
    assert person_name(None) == ""
