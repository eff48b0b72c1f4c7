"""Demo classes, one module per problem set (``psN.py`` defines ``STUDENTS``); see cnnlab.course.demo."""
