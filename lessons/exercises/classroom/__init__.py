"""GitHub Classroom autograding: one pytest test per exercise (test_classroom.py), run by classroom.yml."""
