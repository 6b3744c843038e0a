// The console calendar (FullCalendar, pinned and served from static/vendor): an office's appointments by
// week or day in the office's time zone. Events come from the console's feed (the appointment
// selector); free slots, booking, rescheduling and cancelling go through the REST API, so the rules
// (and the 409 of a taken slot) are the API's.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("calendar-config").textContent);
  const {api} = window.Console;
  const {DateTime} = window.luxon;
  const zone = config.office.timezone;
  const banner = document.getElementById("calendar-message");
  const bookingDialog = document.getElementById("booking-dialog");
  const bookingForm = document.getElementById("booking-form");
  const appointmentDialog = document.getElementById("appointment-dialog");
  const appointmentForm = document.getElementById("appointment-form");

  function say(text, kind) {
    banner.hidden = !text;
    banner.textContent = text || "";
    banner.className = `console-message ${kind || ""}`;
  }

  const local = (iso) => DateTime.fromISO(iso, {zone});
  const when = (start, end) => `${local(start).toFormat("cccc d LLLL yyyy, HH:mm")}–${local(end).toFormat("HH:mm")} (${zone})`;
  const failureText = (failure) => (failure.status === 409
    ? `That time is taken: ${failure.message} Pick another free slot.`
    : failure.message);
  const earlier = (a, b) => (a < b ? a : b);
  const later = (a, b) => (a > b ? a : b);

  function appointmentEvents(info, success, failure) {
    const params = new URLSearchParams({start: info.startStr, end: info.endStr, office: config.office.id});
    if (config.consultant_id) params.set("consultant", config.consultant_id);
    fetch(`${config.events_url}?${params}`, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`The calendar could not load (${response.status}).`))))
      .then(success, (error) => { say(error.message, "error"); failure(error); });
  }

  async function freeSlots(info, success, failure) {
    if (!config.consultant_id || !config.may_book) { success([]); return; }
    const today = DateTime.now().setZone(zone).toISODate();
    const days = [];
    for (let day = local(info.startStr).startOf("day"); day < local(info.endStr); day = day.plus({days: 1})) {
      if (day.toISODate() >= today) days.push(day.toISODate());
    }
    try {
      const pages = await Promise.all(days.map((day) => api(
        "GET", `/api/v1/appointments/availability?${new URLSearchParams({consultant_id: config.consultant_id, date: day})}`)));
      success(pages.flatMap((page) => page.results.map((slot) => ({
        start: slot.start, end: slot.end, title: "Free", classNames: ["free-slot"], editable: false,
        extendedProps: {kind: "free"},
      }))));
    } catch (error) {
      say(`Free slots could not load: ${error.message}`, "error");
      failure(error);
    }
  }

  const calendar = new window.FullCalendar.Calendar(document.getElementById("calendar"), {
    timeZone: zone,
    initialView: "timeGridWeek",
    initialDate: config.start ? local(config.start).toISODate() : undefined,
    headerToolbar: {left: "prev,next today", center: "title", right: "timeGridWeek,timeGridDay"},
    firstDay: 1,
    slotMinTime: earlier(config.office.opens, "08:00"),
    slotMaxTime: later(config.office.closes, "19:00"),
    slotDuration: {minutes: config.slot_minutes},
    slotLabelFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
    eventTimeFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
    allDaySlot: false,
    nowIndicator: true,
    height: "auto",
    selectable: config.may_book,
    selectMirror: true,
    eventSources: [{id: "appointments", events: appointmentEvents}, {id: "free", events: freeSlots}],
    select: (info) => { calendar.unselect(); openBooking(info.startStr, info.endStr); },
    eventClick: (info) => {
      info.jsEvent.preventDefault();
      if (info.event.extendedProps.kind === "free") openBooking(info.event.startStr, info.event.endStr);
      else openAppointment(info.event);
    },
    eventDrop: reschedule,
    eventResize: reschedule,
    eventDidMount: (info) => {
      info.el.dataset.kind = info.event.extendedProps.kind;
      info.el.dataset.start = info.event.startStr;
      if (info.event.id) info.el.dataset.appointment = info.event.id;
    },
  });
  calendar.render();
  document.body.dataset.calendarReady = "true";

  // --- booking ---

  const attendees = bookingForm.elements.lead_id;
  let booking = null;

  function addAttendee(lead, selected) {
    const option = new Option(`${lead.name}${lead.contact ? ` (${lead.contact})` : ""}`, lead.id, selected, selected);
    option.dataset.student = lead.student_id || "";
    attendees.add(option);
  }

  function openBooking(start, end) {
    if (!config.may_book) return;
    booking = {start, end};
    bookingForm.querySelector(".dialog-error").textContent = "";
    document.getElementById("booking-when").textContent = when(start, end);
    if (config.consultant_id) bookingForm.elements.consultant_id.value = config.consultant_id;
    if (config.lead && !attendees.querySelector(`option[value="${config.lead.id}"]`)) addAttendee(config.lead, true);
    bookingDialog.showModal();
    (attendees.value ? bookingForm.elements.title : bookingForm.elements.lead_search).focus();
  }

  let searching = null;
  bookingForm.elements.lead_search.addEventListener("input", (event) => {
    clearTimeout(searching);
    const query = event.target.value.trim();
    if (query.length < 2) return;
    searching = setTimeout(async () => {
      try {
        const page = await api("GET", `/api/v1/leads?${new URLSearchParams({q: query, limit: 10})}`);
        attendees.innerHTML = "";
        page.results.forEach((lead, index) => addAttendee({
          id: lead.id, name: `${lead.first_name} ${lead.last_name}`.trim(), contact: lead.email || lead.phone,
          student_id: lead.student_id,
        }, index === 0));
        if (!page.results.length) bookingForm.querySelector(".dialog-error").textContent = "No lead matches.";
      } catch (failure) {
        bookingForm.querySelector(".dialog-error").textContent = failure.message;
      }
    }, 250);
  });

  bookingForm.addEventListener("submit", async (event) => {
    event.preventDefault();  // the dialog stays open until the API says yes
    const error = bookingForm.querySelector(".dialog-error");
    const chosen = attendees.selectedOptions[0];
    if (!chosen) { error.textContent = "Choose who the appointment is for."; return; }
    const submit = bookingForm.querySelector("[type=submit]");
    submit.disabled = true;
    try {
      const appointment = await api("POST", "/api/v1/appointments", {
        consultant_id: Number(bookingForm.elements.consultant_id.value), lead_id: Number(chosen.value),
        student_id: chosen.dataset.student ? Number(chosen.dataset.student) : null,
        title: bookingForm.elements.title.value, notes: bookingForm.elements.notes.value,
        start: booking.start, end: booking.end,
      });
      bookingDialog.close();
      say(`Booked: ${chosen.textContent} with ${bookingForm.elements.consultant_id.selectedOptions[0].textContent}, ${when(appointment.start, appointment.end)}.`, "success");
      calendar.refetchEvents();
    } catch (failure) {
      error.textContent = failureText(failure);
      calendar.refetchEvents();
    } finally {
      submit.disabled = false;
    }
  });

  // --- an appointment: details and cancelling; dragging it reschedules ---

  let shown = null;
  function openAppointment(event) {
    shown = event;
    const props = event.extendedProps;
    document.getElementById("appointment-title").textContent = `${props.attendee}: ${props.title}`;
    document.getElementById("appointment-details").textContent =
      `${when(event.startStr, event.endStr)} with ${props.consultant}. ${props.status_label}.${props.notes ? ` ${props.notes}` : ""}`;
    appointmentForm.querySelector(".dialog-error").textContent = "";
    appointmentForm.querySelector("[value=cancel-appointment]").hidden = props.status !== "scheduled";
    appointmentDialog.showModal();
  }

  appointmentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", `/api/v1/appointments/${shown.id}/cancel`, {reason: appointmentForm.elements.reason.value});
      appointmentDialog.close();
      say(`Cancelled: ${shown.extendedProps.attendee}, ${when(shown.startStr, shown.endStr)}.`, "success");
      calendar.refetchEvents();
    } catch (failure) {
      appointmentForm.querySelector(".dialog-error").textContent = failure.message;
    }
  });

  for (const dialog of [bookingDialog, appointmentDialog]) {
    dialog.querySelector("button[type=button]").addEventListener("click", () => dialog.close());
  }

  async function reschedule(info) {
    const props = info.event.extendedProps;
    if (!window.confirm(`Move ${props.attendee} to ${when(info.event.startStr, info.event.endStr)}?`)) { info.revert(); return; }
    try {
      await api("POST", `/api/v1/appointments/${info.event.id}/reschedule`, {start: info.event.startStr, end: info.event.endStr});
      say(`Moved: ${props.attendee}, ${when(info.event.startStr, info.event.endStr)}.`, "success");
    } catch (failure) {
      info.revert();
      say(`Not moved. ${failureText(failure)}`, "error");
    }
    calendar.refetchEvents();
  }

  if (config.start) {  // "book this slot" from the home page
    openBooking(config.start, local(config.start).plus({minutes: config.slot_minutes}).toISO());
  } else if (config.lead) {
    say(`Booking for ${config.lead.name}: ${config.consultant_id ? "click a free slot" : "choose a consultant, then click a free slot"}.`);
  }
})();
