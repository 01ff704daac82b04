/* cmd-apply.c */
