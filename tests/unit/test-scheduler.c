/* Unit tests: VM admission per source host (core/scheduler.c), driven
 * step by step, no threads and no timing: the limit, a VM that costs more
 * than the limit runs alone, and a large VM is not starved by a stream of
 * small ones.  Each test uses its own host names (the table is
 * process-wide).
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "scheduler.h"

static void
test_limit (void **state)
{
  uint64_t t[4] = { 0 };
  assert_true (ferry_internal_sched_try_admit ("p/limit", 2, 4, &t[0]));
  assert_true (ferry_internal_sched_try_admit ("p/limit", 2, 4, &t[1]));
  assert_int_equal (ferry_internal_sched_inflight ("p/limit"), 4);
  assert_false (ferry_internal_sched_try_admit ("p/limit", 1, 4, &t[2]));
  assert_true (t[2] != 0);
  /* Another host is independent. */
  assert_true (ferry_internal_sched_try_admit ("p/other", 1, 4, &t[3]));
  ferry_internal_sched_release ("p/limit", 2);
  assert_true (ferry_internal_sched_try_admit ("p/limit", 1, 4, &t[2]));
  assert_int_equal (t[2], 0);
  assert_int_equal (ferry_internal_sched_inflight ("p/limit"), 3);
  assert_int_equal (ferry_internal_sched_reserved ("p/limit"), 0);
}

static void
test_oversized_runs_alone (void **state)
{
  uint64_t big = 0, small = 0, small2 = 0;
  assert_true (ferry_internal_sched_try_admit ("p/alone", 1, 3, &small));
  /* 5 disks > limit 3: waits until the host is empty... */
  assert_false (ferry_internal_sched_try_admit ("p/alone", 5, 3, &big));
  ferry_internal_sched_release ("p/alone", 1);
  assert_true (ferry_internal_sched_try_admit ("p/alone", 5, 3, &big));
  assert_int_equal (ferry_internal_sched_inflight ("p/alone"), 5);
  /* ...and nothing joins it. */
  assert_false (ferry_internal_sched_try_admit ("p/alone", 1, 3, &small2));
  ferry_internal_sched_release ("p/alone", 5);
  assert_true (ferry_internal_sched_try_admit ("p/alone", 1, 3, &small2));
}

/* A 3-disk VM on a host with limit 4 kept busy by 1-disk VMs: each time a
 * small VM ends, another small one asks first.  Without a reservation the
 * big VM would never fit (3 of 4 slots are always taken); with it, the
 * small VMs are refused until it is admitted.
 */
static void
test_no_starvation (void **state)
{
  const unsigned limit = 4;
  uint64_t tickets[64] = { 0 }, big = 0;
  unsigned running[64], nr_running = 0, next = 0;
  int admitted_at = -1;

  for (unsigned i = 0; i < limit; i++) {
    assert_true (ferry_internal_sched_try_admit ("p/starve", 1, limit, &tickets[next]));
    running[nr_running++] = next++;
  }
  assert_false (ferry_internal_sched_try_admit ("p/starve", 3, limit, &big));
  assert_int_equal (ferry_internal_sched_reserved ("p/starve"), big);

  for (int round = 0; round < 20 && admitted_at < 0; round++) {
    /* The oldest small VM ends; a new small VM asks before the big one. */
    assert_true (nr_running > 0);
    ferry_internal_sched_release ("p/starve", 1);
    for (unsigned k = 1; k < nr_running; k++)
      running[k - 1] = running[k];
    nr_running--;
    unsigned s = next++;
    if (ferry_internal_sched_try_admit ("p/starve", 1, limit, &tickets[s]))
      running[nr_running++] = s;
    if (ferry_internal_sched_try_admit ("p/starve", 3, limit, &big))
      admitted_at = round;
  }
  /* Two small VMs had to drain before 3 disks fit beside the last one. */
  assert_int_equal (admitted_at, 2);
  assert_int_equal (big, 0);
  assert_int_equal (ferry_internal_sched_inflight ("p/starve"), 4);
}

/* The reservation goes to the oldest refused VM, whoever asks first. */
static void
test_oldest_ticket_wins (void **state)
{
  const unsigned limit = 2;
  uint64_t a = 0, b = 0, x = 0, y = 0;
  assert_true (ferry_internal_sched_try_admit ("p/order", 2, limit, &x));
  assert_false (ferry_internal_sched_try_admit ("p/order", 1, limit, &a)); /* older */
  assert_false (ferry_internal_sched_try_admit ("p/order", 2, limit, &b)); /* newer */
  assert_true (a < b);
  assert_int_equal (ferry_internal_sched_reserved ("p/order"), a);
  ferry_internal_sched_release ("p/order", 2);
  /* b asks first but a holds the reservation. */
  assert_false (ferry_internal_sched_try_admit ("p/order", 2, limit, &b));
  assert_true (ferry_internal_sched_try_admit ("p/order", 1, limit, &a));
  /* Now b is the oldest waiting; a newcomer that would fit is refused. */
  assert_false (ferry_internal_sched_try_admit ("p/order", 2, limit, &b));
  assert_int_equal (ferry_internal_sched_reserved ("p/order"), b);
  assert_false (ferry_internal_sched_try_admit ("p/order", 1, limit, &y));
  ferry_internal_sched_release ("p/order", 1);
  assert_true (ferry_internal_sched_try_admit ("p/order", 2, limit, &b));
  ferry_internal_sched_release ("p/order", 2);
  assert_true (ferry_internal_sched_try_admit ("p/order", 1, limit, &y));
}

/* A refused VM that goes away (canceled) frees the host for the others. */
static void
test_withdraw (void **state)
{
  uint64_t big = 0, small = 0, other = 0;
  assert_true (ferry_internal_sched_try_admit ("p/withdraw", 3, 4, &small));
  assert_false (ferry_internal_sched_try_admit ("p/withdraw", 2, 4, &big));
  assert_false (ferry_internal_sched_try_admit ("p/withdraw", 1, 4, &other));
  ferry_internal_sched_withdraw ("p/withdraw", &big);
  assert_int_equal (big, 0);
  assert_int_equal (ferry_internal_sched_reserved ("p/withdraw"), 0);
  assert_true (ferry_internal_sched_try_admit ("p/withdraw", 1, 4, &other));
  /* Withdrawing a VM that holds nothing changes nothing. */
  uint64_t none = 0;
  ferry_internal_sched_withdraw ("p/withdraw", &none);
  assert_int_equal (ferry_internal_sched_inflight ("p/withdraw"), 4);
}

/* A disk's slot comes back when that disk is copied, before its VM ends:
 * another VM fits sooner; the VM's final release passes only the rest; a
 * reservation still holds against small VMs meanwhile.
 */
static void
test_disk_slots_early (void **state)
{
  uint64_t a = 0, b = 0, c = 0, big = 0;
  assert_true (ferry_internal_sched_try_admit ("p/early", 3, 4, &a));
  assert_false (ferry_internal_sched_try_admit ("p/early", 2, 4, &b));
  ferry_internal_sched_release_disks ("p/early", 1);    /* one of a's disks */
  assert_int_equal (ferry_internal_sched_inflight ("p/early"), 2);
  assert_true (ferry_internal_sched_try_admit ("p/early", 2, 4, &b));
  assert_int_equal (ferry_internal_sched_inflight ("p/early"), 4);
  ferry_internal_sched_release ("p/early", 3 - 1);      /* a ends */
  assert_int_equal (ferry_internal_sched_inflight ("p/early"), 2);

  /* b (2 disks) runs; big (3) is refused and reserves the host. */
  assert_false (ferry_internal_sched_try_admit ("p/early", 3, 4, &big));
  assert_int_equal (ferry_internal_sched_reserved ("p/early"), big);
  ferry_internal_sched_release_disks ("p/early", 1);
  /* 1 in flight: c would fit, but the host is reserved for big, which
   * now fits too (1 + 3 <= 4).
   */
  assert_false (ferry_internal_sched_try_admit ("p/early", 1, 4, &c));
  assert_true (ferry_internal_sched_try_admit ("p/early", 3, 4, &big));
  assert_int_equal (ferry_internal_sched_reserved ("p/early"), 0);
  assert_int_equal (ferry_internal_sched_inflight ("p/early"), 4);
  assert_false (ferry_internal_sched_try_admit ("p/early", 1, 4, &c));

  /* A VM over the limit runs alone until its disks drain below it. */
  ferry_internal_sched_release ("p/early", 1);          /* b ends */
  ferry_internal_sched_release ("p/early", 3);          /* big ends */
  uint64_t huge = 0, d = 0;
  assert_true (ferry_internal_sched_try_admit ("p/early2", 5, 3, &huge));
  assert_false (ferry_internal_sched_try_admit ("p/early2", 1, 3, &d));
  ferry_internal_sched_release_disks ("p/early2", 2);   /* 3 left: full */
  assert_false (ferry_internal_sched_try_admit ("p/early2", 1, 3, &d));
  ferry_internal_sched_release_disks ("p/early2", 1);   /* 2 left */
  assert_true (ferry_internal_sched_try_admit ("p/early2", 1, 3, &d));
  ferry_internal_sched_release ("p/early2", 5 - 3);
  assert_int_equal (ferry_internal_sched_inflight ("p/early2"), 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_limit),
    cmocka_unit_test (test_oversized_runs_alone),
    cmocka_unit_test (test_no_starvation),
    cmocka_unit_test (test_oldest_ticket_wins),
    cmocka_unit_test (test_withdraw),
    cmocka_unit_test (test_disk_slots_early),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
