/* cmd-template.c */
