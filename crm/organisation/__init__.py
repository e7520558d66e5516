"""Group organisation (集团组织架构) and people (人员): brand divisions, regions, stores and the users who work there.

`access` says who may do what, once; `structure` keeps divisions, regions and stores; `people` creates, edits,
disables and re-enables users; `people_import` creates many from a sheet. Every change is audited.
"""
