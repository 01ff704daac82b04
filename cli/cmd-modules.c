/* cmd-modules.c */
