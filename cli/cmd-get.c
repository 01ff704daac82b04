/* cmd-get.c */
